// The profile form's map: a län toggles the checkbox of the same län (id "area-XX"), by
// click, Enter or Space; ticking a checkbox updates the map. The checkboxes stay the form's
// fields, so the map adds a way to pick and nothing the server must know about.
(function () {
  "use strict";
  function start() {
    var holder = document.querySelector("[data-pick-map]");
    if (!holder) return;
    holder.hidden = false;
    var toggles = holder.querySelectorAll("[data-pick]");
    function box(code) { return document.getElementById("area-" + code); }
    function show(toggle) {
      var checkbox = box(toggle.getAttribute("data-pick"));
      var on = !!(checkbox && checkbox.checked);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.classList.toggle("selected", on);
    }
    Array.prototype.forEach.call(toggles, function (toggle) {
      function flip() {
        var checkbox = box(toggle.getAttribute("data-pick"));
        if (!checkbox) return;
        checkbox.checked = !checkbox.checked;
        show(toggle);
      }
      toggle.addEventListener("click", flip);
      toggle.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); flip(); }
      });
      var checkbox = box(toggle.getAttribute("data-pick"));
      if (checkbox) checkbox.addEventListener("change", function () { show(toggle); });
      show(toggle);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
