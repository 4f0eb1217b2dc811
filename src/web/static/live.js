// The page's live parts: every element with data-live-topic (one or more topics, space
// separated) is fetched again by htmx (hx-trigger="live") when the page's one Server-Sent
// Events stream names its topic. The session cookie authenticates the stream. Without
// EventSource, or when the server refuses the stream (403, 429), the parts poll instead.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var root = document.documentElement;

  function watching(topic) {
    return Array.prototype.filter.call(
      document.querySelectorAll("[data-live-topic]"),
      function (el) { return el.getAttribute("data-live-topic").split(" ").indexOf(topic) >= 0; }
    );
  }

  function refresh(elements) {
    elements.forEach(function (el) { window.htmx.trigger(el, "live"); });
  }

  function everyWatcher() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-topic]"));
  }

  var polling = null;
  function poll() {
    if (polling !== null) return;
    root.setAttribute("data-live", "polling");
    polling = window.setInterval(function () { refresh(everyWatcher()); }, POLL_MS);
  }

  function start() {
    var topics = [];
    everyWatcher().forEach(function (el) {
      el.getAttribute("data-live-topic").split(" ").forEach(function (topic) {
        if (topic && topics.indexOf(topic) < 0) topics.push(topic);
      });
    });
    if (topics.length === 0 || !window.htmx) return;
    if (!window.EventSource) { poll(); return; }
    var query = topics.map(function (t) { return "amne=" + encodeURIComponent(t); }).join("&");
    var source = new EventSource("/live?" + query);
    // On every (re)connection fetch once: what changed while no stream was open is then shown.
    source.onopen = function () {
      root.setAttribute("data-live", "stream");
      refresh(everyWatcher());
    };
    source.onerror = function () {
      // CONNECTING: the browser retries by itself. CLOSED: the server said no; poll instead.
      if (source.readyState === EventSource.CLOSED) poll();
    };
    topics.forEach(function (topic) {
      source.addEventListener(topic, function () { refresh(watching(topic)); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
