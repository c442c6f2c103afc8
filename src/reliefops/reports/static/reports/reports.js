/* Printable pages: the "Print" button (no inline handler, so that the page runs under a strict
   Content-Security-Policy). */
(function () {
  "use strict";
  function start() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
