// reliefops: the little behaviour the pages need, from a static file (the pages allow no inline
// script). Everything works without it; it only adds the phone menu and the print buttons.
// The print buttons are handled here alone, once for the whole page: a page that listened again
// for its own buttons would print twice per click.
(function () {
  "use strict";

  // A button marked data-print prints the page (distribution lists, household cards, the sitrep,
  // donor reports).
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });

  // On a narrow screen the main navigation folds behind a Menu button. Without this script the
  // navigation simply stays open.
  function setUpMenu() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (!toggle || !nav) {
      return;
    }
    document.documentElement.classList.add("has-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
      if (open) {
        var first = nav.querySelector("a");
        if (first) {
          first.focus();
        }
      }
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("is-open");
        toggle.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpMenu);
  } else {
    setUpMenu();
  }
})();
