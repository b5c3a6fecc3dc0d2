// The main menu's groups (<details class="navgroup">) open one at a time and close on a click
// elsewhere or on Escape; without this script they still open and close by their own title.
(function () {
  "use strict";
  function closeAll(except) {
    document.querySelectorAll("details.navgroup[open]").forEach(function (group) {
      if (group !== except) group.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeAll(event.target.closest ? event.target.closest("details.navgroup") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.navgroup[open]");
      if (open) {
        open.removeAttribute("open");
        open.querySelector("summary").focus();
      }
    }
  });
})();
