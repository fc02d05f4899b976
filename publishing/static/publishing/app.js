// Behaviour shared by every page. No inline scripts anywhere (the Content-Security-Policy forbids
// them): pages declare what they need with data- attributes and this file wires it up.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Facebook appends "#_=_" to its OAuth redirect; drop it so the address stays clean.
  if (window.location.hash === "#_=_") {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    const toggle = document.querySelector(".nav-toggle");
    const nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        const open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });

  // A time zone <select> with a search box before it: <input data-zone-search="ID of the select">.
  // Names of the chosen zone elsewhere on the page (class "zone-name") follow the choice.
  function zoneSearch(root) {
    root.querySelectorAll("[data-zone-search]").forEach(function (search) {
      const select = document.getElementById(search.dataset.zoneSearch);
      if (!select || search.dataset.wired) return;
      search.dataset.wired = "1";
      search.hidden = false;
      const show = function () {
        document.querySelectorAll(".zone-name").forEach(function (node) { node.textContent = select.value; });
      };
      select.addEventListener("change", show);
      search.addEventListener("input", function () {
        const needle = search.value.trim().toLowerCase();
        let first = null;
        for (const option of select.options) {
          const match = !needle || option.text.toLowerCase().includes(needle) || option.value.toLowerCase().includes(needle);
          option.hidden = !match;
          if (match && !first) first = option;
        }
        if (first && needle && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
          select.value = first.value;
          show();
        }
      });
    });
  }
  ready(function () { zoneSearch(document); });
  document.addEventListener("htmx:afterSettle", function () { zoneSearch(document); });

  // Destructive actions ask first: <form data-confirm="Delete this post?">. Delegated, so forms
  // swapped in by htmx are covered too.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
