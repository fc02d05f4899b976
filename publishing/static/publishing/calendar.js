// Drag a date to another day (month) or hour (week) to move it. The drop posts the same form the
// "Move a date" list beside the calendar posts, so the keyboard and the mouse do exactly one thing.
(function () {
  "use strict";
  function start() {
    const grid = document.getElementById("calendar-grid");
    if (!grid) return;
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    let dragged = null;

    grid.addEventListener("dragstart", function (event) {
      const entry = event.target.closest && event.target.closest("[data-move]");
      if (!entry) return;
      dragged = entry;
      entry.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", entry.id);
    });
    grid.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      grid.querySelectorAll(".drop-target").forEach((cell) => cell.classList.remove("drop-target"));
    });
    grid.addEventListener("dragover", function (event) {
      const cell = event.target.closest && event.target.closest(".drop");
      if (!cell || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      grid.querySelectorAll(".drop-target").forEach((other) => other !== cell && other.classList.remove("drop-target"));
      cell.classList.add("drop-target");
    });
    grid.addEventListener("drop", function (event) {
      const cell = event.target.closest && event.target.closest(".drop");
      if (!cell || !dragged) return;
      event.preventDefault();
      const [hour, minute] = dragged.dataset.time.split(":");
      const newHour = cell.dataset.hour !== undefined ? String(cell.dataset.hour).padStart(2, "0") : hour;
      move(dragged.dataset.move, `${cell.dataset.date}T${newHour}:${minute}`);
    });

    function move(action, when) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = action;
      form.hidden = true;
      for (const [name, value] of [["csrfmiddlewaretoken", token ? token.value : ""], ["when", when], ["next", grid.dataset.here]]) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      form.submit();
    }
  }
  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
