"""Why a meter reading was refused (submitMeterReading, previewMeterReading)."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class ReadingError(ErrorCode):
    MISSING_ZONE = code(
        "A zone of the meter has no value in `values`: every zone is read at once.",
        Sentence(
            ru="Укажите показание зоны «{zone}».",
            en="Enter the value of the {zone} zone.",
        ),
    )
    UNKNOWN_ZONE = code(
        "A value names a zone the meter does not have.",
        Sentence(
            ru="У этого счётчика нет зоны {zone}: зон у него {zones}.",
            en="This meter has no zone {zone}: it has {zones} zone(s).",
        ),
    )
    BAD_VALUE = code(
        "A value is not a number, is negative, has more than three decimals, has more digits "
        "than the meter shows, or is given twice (`message` says which).",
        Sentence(
            ru="Проверьте показание зоны «{zone}».",
            en="Check the value of the {zone} zone.",
        ),
        not_a_number=Sentence(
            ru="Показание зоны «{zone}» должно быть числом, например 12345,6.",
            en="The value of the {zone} zone must be a number, e.g. 12345.6.",
        ),
        negative=Sentence(
            ru="Показание зоны «{zone}» не может быть отрицательным.",
            en="The value of the {zone} zone cannot be negative.",
        ),
        decimals=Sentence(
            ru="Показание зоны «{zone}»: не больше трёх знаков после запятой.",
            en="The value of the {zone} zone: at most three digits after the point.",
        ),
        too_large=Sentence(
            ru="Показание зоны «{zone}» не помещается на счётчике: у него {digits} цифр до "
            "запятой. Переписывайте цифры до запятой, без ведущих лишних знаков.",
            en="The value of the {zone} zone does not fit the meter: it has {digits} digits "
            "before the point.",
        ),
        repeated=Sentence(
            ru="Показание зоны «{zone}» указано дважды.",
            en="The value of the {zone} zone is given twice.",
        ),
    )
    LOWER_THAN_PREVIOUS = code(
        "A value is below the last accepted reading of its zone, by more than a rollover of "
        "the register could explain: most likely a digit is misread.",
        Sentence(
            ru="Показание зоны «{zone}» меньше последнего принятого ({previous} на "
            "{previous_on}). Проверьте, верно ли переписаны цифры.",
            en="The value of the {zone} zone is lower than the last accepted one ({previous} "
            "on {previous_on}). Check the digits.",
        ),
        guest=Sentence(
            ru="Показание зоны «{zone}» меньше последнего принятого. Проверьте, верно ли "
            "переписаны цифры.",
            en="The value of the {zone} zone is lower than the last accepted one. Check the "
            "digits.",
        ),
    )
    IMPLAUSIBLE_VALUE = code(
        "The consumption since the last accepted reading is far above the meter's usual: "
        "check the value, or send it again with `confirmUnusual` to have it reviewed by hand.",
        Sentence(
            ru="Расход по зоне «{zone}» — {consumption} кВт·ч за {days} дн. — намного больше "
            "обычного (до {limit} кВт·ч). Проверьте показание; если оно верно, подтвердите "
            "его, и мы проверим его вручную.",
            en="The consumption of the {zone} zone, {consumption} kWh in {days} day(s), is far "
            "above the usual (up to {limit} kWh). Check the value; if it is right, confirm it "
            "and we will review it.",
        ),
        guest=Sentence(
            ru="Показание зоны «{zone}» намного больше обычного. Проверьте его; если оно "
            "верно, передайте его в личном кабинете или позвоните нам.",
            en="The value of the {zone} zone is far above the usual. Check it; if it is "
            "right, submit it in the customer cabinet or call us.",
        ),
    )
    OUTSIDE_WINDOW = code(
        "Readings are accepted only within the monthly window (the message gives its dates).",
        Sentence(
            ru="Сейчас показания не принимаются. Передайте их с {start} по {end}.",
            en="Readings are not accepted now. Submit them from {start} to {end}.",
        ),
    )
    DATE_IN_FUTURE = code(
        "`takenOn` is later than today.",
        Sentence(
            ru="Дата показаний не может быть позже сегодняшней ({today}).",
            en="The reading date cannot be later than today ({today}).",
        ),
    )
    DATE_BEFORE_PREVIOUS = code(
        "`takenOn` is before the date of the last accepted reading, or a reading of that very "
        "date is accepted already.",
        Sentence(
            ru="Дата показаний раньше даты последних принятых показаний ({previous_on}).",
            en="The reading date is before that of the last accepted reading ({previous_on}).",
        ),
        same_day=Sentence(
            ru="Показания за {previous_on} уже приняты. Укажите дату, когда сняты новые.",
            en="A reading of {previous_on} is accepted already. Give the date of the new one.",
        ),
        guest=Sentence(
            ru="На эту дату показания принять нельзя: укажите дату, когда сняты новые.",
            en="A reading of this date cannot be accepted: give the date of the new one.",
        ),
    )
