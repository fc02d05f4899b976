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
