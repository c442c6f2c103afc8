// reliefops: the little behaviour the pages need, from a static file (the pages allow no inline
// script). Everything works without it; it only adds the phone menu, the print buttons, the focus
// on a refused form's problems and the keyboard's way into a table that scrolls sideways.
// The print buttons are handled here alone, once for the whole page: a page that listened again
// for its own buttons would print twice per click.
(function () {
  "use strict";

  // The style sheet shows what works only with this script (the print buttons) once it runs.
  document.documentElement.classList.add("js");

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

  // A form the server refused comes back with its problems: the focus goes to them, so that a
  // screen reader reads them at once and the keyboard starts where the correction is. The box of
  // problems when the page has one, else the first refused field (its reason is read with it,
  // through aria-describedby). Only a posted form: a refused filter of a list is left alone, and
  // so is a box of problems that belongs to no form (a failed job's).
  function focusRefusedForm() {
    var refused = document.querySelector("main form[method='post'] [aria-invalid='true']");
    var summary = null;
    Array.prototype.forEach.call(document.querySelectorAll("main .form-errors"), function (box) {
      var next = box.nextElementSibling;
      var posted = box.closest("form[method='post']") || (next && next.matches("form[method='post']"));
      if (!summary && (posted || refused)) {
        summary = box;
      }
    });
    var target = summary || refused;
    if (!target) {
      return;
    }
    if (target === summary && !summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  // A table wider than the screen scrolls inside its box. The box takes the keyboard's focus
  // (arrow keys scroll it) and is named after the table, for screen readers; a box that fits
  // is left as it is.
  function markScrollingTables(root) {
    var boxes = (root || document).querySelectorAll(".table-wrap");
    Array.prototype.forEach.call(boxes, function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var name = tableName(box.querySelector("table"));
        if (!name) {
          var heading = headingBefore(box);
          name = heading ? textBesideCounts(heading) : "Table";
        }
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name.replace(/\s+/g, " ").trim() + " (scrolls sideways)");
        box.setAttribute("data-scrolls", "");
      } else if (!scrolls && box.hasAttribute("data-scrolls")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        box.removeAttribute("data-scrolls");
      }
    });
  }

  // The name a table gives itself: its caption, or the heading its aria-labelledby names.
  function tableName(table) {
    if (!table) {
      return "";
    }
    if (table.caption) {
      return table.caption.textContent;
    }
    var named = (table.getAttribute("aria-labelledby") || "").split(/\s+/);
    return named.map(function (id) {
      var el = id && document.getElementById(id);
      return el ? textBesideCounts(el) : "";
    }).join(" ").trim();
  }

  // A heading's words without the count it shows beside them ("Sub-areas", not "Sub-areas 7").
  function textBesideCounts(heading) {
    var copy = heading.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll(".count"), function (count) {
      count.remove();
    });
    return copy.textContent;
  }

  // The nearest heading before an element, in the order of the page.
  function headingBefore(element) {
    var headings = document.querySelectorAll("main h1, main h2, main h3, main h4");
    var found = null;
    Array.prototype.forEach.call(headings, function (heading) {
      if (heading.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING) {
        found = heading;
      }
    });
    return found;
  }

  function setUp() {
    setUpMenu();
    markScrollingTables();
    focusRefusedForm();
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        markScrollingTables();
      }, 200);
    });
    // a search typed into a list replaces its table (htmx): what it found is told to screen
    // readers, which do not read a table that changes under them (a refusal is an alert already)
    // (the live region is on the page, empty, before the first search, or it would not be read)
    var status = null;
    if (document.querySelector("[hx-target]")) {
      status = document.createElement("p");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.id = "search-status";
      document.body.appendChild(status);
    }
    document.body.addEventListener("htmx:afterSettle", function (event) {
      markScrollingTables(event.target);
      var summary = event.target.querySelector ? event.target.querySelector(".summary") : null;
      if (status && summary) {
        status.textContent = summary.textContent.replace(/\s+/g, " ").trim();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
