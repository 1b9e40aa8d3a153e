// GraphiQL for kabinet (see docs/api.md, "GraphiQL"). A plain script, not a module: it
// runs after the vendored UMD bundles that define React, ReactDOM and GraphiQL.
//
// - The document, variables and operation name live in the address (?query=...), so a
//   reload or a shared link opens the same document; the server answers such a GET from a
//   browser with this page, and from an API client with the result (schema/ide.py).
// - GraphiQL's own state (tabs, the Headers tab with a bearer token, history) is kept in
//   sessionStorage: it survives a reload of this tab and is gone when the tab closes.
//   Nothing goes to localStorage, and headers never go into the address.
//
// - GraphiQL's dialogs lock scrolling with a <style> element they add to <head> at run time
//   (react-remove-scroll). The page's policy allows styles from files and from elements
//   that carry this page's nonce, so such an element gets the nonce as it is added: what
//   a script may do anyway, while a <style> smuggled into markup stays blocked.
(function () {
  "use strict";

  const nonce = document.currentScript.nonce;
  const append = document.head.appendChild.bind(document.head);
  document.head.appendChild = function (node) {
    if (node instanceof HTMLStyleElement && !node.nonce) {
      node.nonce = nonce;
    }
    return append(node);
  };

  const URL_PARAMETERS = ["query", "variables", "operationName"];

  function memoryStorage() {
    // For browsers that refuse sessionStorage (some private modes): this page's memory.
    const items = new Map();
    return {
      get length() {
        return items.size;
      },
      key: (index) => Array.from(items.keys())[index] ?? null,
      getItem: (key) => (items.has(key) ? items.get(key) : null),
      setItem: (key, value) => items.set(key, String(value)),
      removeItem: (key) => items.delete(key),
      clear: () => items.clear(),
    };
  }

  function sessionOnly() {
    try {
      const probe = "kabinet:probe";
      window.sessionStorage.setItem(probe, probe);
      window.sessionStorage.removeItem(probe);
      return window.sessionStorage;
    } catch {
      return memoryStorage();
    }
  }

  function remember(name, value) {
    const search = new URLSearchParams(window.location.search);
    if (value) {
      search.set(name, value);
    } else {
      search.delete(name);
    }
    const rest = search.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }

  const root = document.getElementById("graphiql");
  const endpoint = new URL(root.dataset.endpoint, window.location.href).href;
  const search = new URLSearchParams(window.location.search);
  const shown = {};
  for (const name of URL_PARAMETERS) {
    if (search.has(name)) {
      shown[name] = search.get(name);
    }
  }

  const props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint }),
    storage: sessionOnly(),
    // Kept across reloads of the tab, in session storage only (see above).
    shouldPersistHeaders: true,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: true,
    inputValueDeprecation: true,
    defaultQuery: "# kabinet: see docs/api.md. Ctrl-Enter runs the query.\n{\n  version\n}\n",
    onEditQuery: (value) => remember("query", value),
    onEditVariables: (value) => remember("variables", value),
    onEditOperationName: (value) => remember("operationName", value),
    ...shown,
  };
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
