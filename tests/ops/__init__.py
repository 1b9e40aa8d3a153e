"""Operating kabinet: the CLI, settings, outages, scale-out, migrations, docs, layers."""
