// The compose and edit pages: counters and previews per chosen platform (counted by the server, with
// the same rules it checks with), date rows, attachments with thumbnails, reorder and remove, the time
// zone search, and the warning X needs. Re-run after htmx swaps the form in (a refused submit).
(function () {
  "use strict";

  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?'")\]]/;
  let timer = null;
  let lastRequest = 0;

  function data(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "icon platform-" + name);
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", "#i-" + name);
    svg.append(use);
    return svg;
  }

  function chosenAccounts(form, accounts) {
    const fixed = form.dataset.accounts ? JSON.parse(form.dataset.accounts) : null;
    const ids = fixed || [...form.querySelectorAll("[name=accounts]:checked")].map((box) => box.value);
    return ids.map((id) => accounts[id]).filter(Boolean);
  }

  function files(form) {
    const input = form.querySelector("input[type=file][name=attachments]");
    return input ? [...input.files] : [];
  }

  function existingMedia() {
    return data("existing-media") || [];
  }

  // -- counters and previews -------------------------------------------------------------------
  function refresh(form) {
    clearTimeout(timer);
    timer = setTimeout(() => count(form), 150);
    warnAboutX(form);
    onlyFor(form);
  }

  function count(form) {
    const accounts = data("account-platforms") || {};
    const chosen = chosenAccounts(form, accounts);
    const text = form.querySelector("[name=text]");
    const body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("text", text ? text.value : "");
    const media = files(form);
    const types = media.length ? media.map((f) => f.type) : existingMedia().map((m) => m.type);
    body.append("photos", types.length && types.every((t) => t.startsWith("image/")) ? "1" : "0");
    for (const platform of new Set(chosen.map((a) => a.platform))) body.append("platform", platform);
    const request = ++lastRequest;
    fetch(form.dataset.countsUrl, { method: "POST", body, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (answer && request === lastRequest) render(form, chosen, answer);
      })
      .catch(() => {});
  }

  function render(form, chosen, answer) {
    const byPlatform = Object.fromEntries(answer.counts.map((c) => [c.platform, c]));
    const counters = document.getElementById("char-counts");
    if (counters) {
      counters.replaceChildren(...answer.counts.map((c) => el("li", {
        class: "counter" + (c.over ? " over" : ""),
        "data-platform": c.platform,
        text: `${c.label}: ${c.length} / ${c.limit}` + (c.over ? ` (${c.length - c.limit} too many)` : ""),
      })));
    }
    const previews = document.getElementById("previews");
    if (!previews) return;
    if (!chosen.length) {
      previews.replaceChildren(el("p", { class: "muted", text: "Choose an account to see how the post will look there." }));
      return;
    }
    const thumbs = mediaItems(form);
    previews.replaceChildren(...chosen.map((account) => preview(account, byPlatform[account.platform], answer.text, thumbs)));
  }

  function preview(account, counted, text, thumbs) {
    const chars = [...text];
    const fits = counted ? counted.fits : chars.length;
    const body = el("p", { class: "preview-text" });
    body.append(chars.slice(0, fits).join(""));
    if (fits < chars.length) {
      body.append(el("span", { class: "cut", title: "Cut: over the limit", text: chars.slice(fits).join("") }));
    }
    if (!text) body.append(el("span", { class: "muted", text: "(no text)" }));
    const card = el("article", { class: "preview", "data-platform": account.platform, "aria-label": "Preview on " + account.name },
      el("div", { class: "preview-head" },
        el("span", { class: "platform platform-" + account.platform }, icon(account.platform), el("span", { class: "name", text: account.name })),
        counted ? el("span", { class: "counter" + (counted.over ? " over" : ""), text: `${counted.length} / ${counted.limit}` }) : null),
      body);
    const link = text.match(URL_PATTERN);
    if (link) {
      const note = account.platform === "instagram" || account.platform === "tiktok"
        ? "Links are not clickable in " + (account.platform === "instagram" ? "Instagram captions" : "TikTok captions")
        : "Link preview: " + new URL(link[0]).hostname;
      card.append(el("span", { class: "preview-link", text: note }));
    }
    if (thumbs.length) {
      const limit = { x: 4, instagram: 10, tiktok: 35, facebook: 10 }[account.platform] || 4;
      const shown = account.platform === "instagram" || account.platform === "tiktok" ? thumbs.slice(0, 1) : thumbs.slice(0, Math.min(4, limit));
      const grid = el("div", { class: "preview-media" + (shown.length === 1 ? " one" : "") },
        ...shown.map((item, index) => !item.type.startsWith("image/")
          ? el("span", { class: "thumb-file", text: item.type || "file" })
          : item.file ? thumbnail(item.file, "Attachment " + (index + 1))
          : el("img", { src: item.url, alt: "Attachment " + (index + 1) })));
      card.append(grid);
      if ((account.platform === "instagram" || account.platform === "tiktok") && thumbs.length > 1) {
        card.append(el("p", { class: "muted", text: `Carousel: 1 of ${thumbs.length}, swiped in this order.` }));
      } else if (thumbs.length > shown.length) {
        card.append(el("p", { class: "muted", text: `+${thumbs.length - shown.length} more` }));
      }
    }
    return card;
  }

  // -- attachments -----------------------------------------------------------------------------
  // Thumbnails are data: URLs (the Content-Security-Policy allows those for images, not blob:).
  const dataUrls = new Map();
  function thumbnail(file, alt) {
    const img = el("img", { alt: alt });
    if (dataUrls.has(file)) {
      img.src = dataUrls.get(file);
    } else {
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        dataUrls.set(file, reader.result);
        document.querySelectorAll("img[data-pending]").forEach((pending) => {
          if (pending.fileRef === file) { pending.src = reader.result; pending.removeAttribute("data-pending"); }
        });
      });
      img.setAttribute("data-pending", "1");
      img.fileRef = file;
      reader.readAsDataURL(file);
    }
    return img;
  }

  function mediaItems(form) {
    const picked = files(form);
    if (picked.length) return picked.map((f) => ({ file: f, type: f.type }));
    return existingMedia();
  }

  function setFiles(input, list) {
    const transfer = new DataTransfer();
    list.forEach((f) => transfer.items.add(f));
    input.files = transfer.files;
  }

  function renderMedia(form) {
    const input = form.querySelector("input[type=file][name=attachments]");
    const list = document.getElementById("media-list");
    if (!input || !list) return;
    const picked = [...input.files];
    list.replaceChildren(...picked.map((file, index) => {
      const thumb = file.type.startsWith("image/")
        ? thumbnail(file, file.name)
        : el("span", { class: "thumb-file", text: file.name });
      const earlier = el("button", { type: "button", class: "small", "aria-label": `Move ${file.name} earlier`, text: "←" });
      const later = el("button", { type: "button", class: "small", "aria-label": `Move ${file.name} later`, text: "→" });
      const remove = el("button", { type: "button", class: "small subtle-danger", "aria-label": `Remove ${file.name}`, text: "Remove" });
      earlier.disabled = index === 0;
      later.disabled = index === picked.length - 1;
      earlier.addEventListener("click", () => { swap(picked, index, index - 1); setFiles(input, picked); changed(form, `${file.name} moved earlier`); });
      later.addEventListener("click", () => { swap(picked, index, index + 1); setFiles(input, picked); changed(form, `${file.name} moved later`); });
      remove.addEventListener("click", () => { picked.splice(index, 1); setFiles(input, picked); changed(form, `${file.name} removed`); });
      return el("li", { "data-name": file.name }, thumb, el("div", { class: "row" }, earlier, later), remove);
    }));
  }

  function swap(list, a, b) {
    [list[a], list[b]] = [list[b], list[a]];
  }

  function changed(form, said) {
    renderMedia(form);
    refresh(form);
    const status = document.getElementById("media-status");
    if (status) status.textContent = said;
  }

  // -- dates -----------------------------------------------------------------------------------
  function dateRows(form) {
    const list = form.querySelector(".date-rows");
    if (!list) return;
    const sync = () => {
      const rows = list.querySelectorAll("li");
      rows.forEach((row, index) => {
        const input = row.querySelector("input");
        input.setAttribute("aria-label", `Date and time ${index + 1}`);
        row.querySelector(".remove-date").hidden = rows.length === 1;
      });
      warnAboutX(form);
    };
    list.addEventListener("click", (event) => {
      const button = event.target.closest(".remove-date");
      if (!button) return;
      const rows = list.querySelectorAll("li");
      if (rows.length > 1) {
        const row = button.closest("li");
        const focusTarget = row.previousElementSibling || row.nextElementSibling;
        row.remove();
        focusTarget.querySelector("input").focus();
      }
      sync();
    });
    const add = form.querySelector(".add-date");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", () => {
        const last = list.querySelector("li:last-child");
        const row = last.cloneNode(true);
        const input = row.querySelector("input");
        input.value = "";
        input.removeAttribute("id");
        list.append(row);
        sync();
        input.focus();
      });
    }
    sync();
  }

  // Fields that only one platform reads show only when an account of that platform is chosen.
  function onlyFor(form) {
    const platforms = new Set(chosenAccounts(form, data("account-platforms") || {}).map((a) => a.platform));
    form.querySelectorAll("[data-only-platform]").forEach((field) => {
      const wanted = platforms.has(field.dataset.onlyPlatform);
      field.hidden = !wanted && !field.querySelector(".errorlist");
    });
  }

  function warnAboutX(form) {
    const warning = document.getElementById("x-duplicate-warning");
    if (!warning) return;
    const accounts = data("account-platforms") || {};
    const toX = chosenAccounts(form, accounts).some((a) => a.platform === "x");
    const dates = [...form.querySelectorAll(".date-rows input")].filter((i) => i.value).length;
    warning.hidden = !(toX && dates > 1);
  }

  // -- wiring ----------------------------------------------------------------------------------
  function start(root) {
    // Date rows work in any form that has them (the edit page's "add dates" form too).
    document.querySelectorAll("form").forEach((other) => {
      if (other.querySelector(".date-rows") && !other.dataset.rowsWired) {
        other.dataset.rowsWired = "1";
        dateRows(other);
      }
    });
    const form = (root && root.id === "compose" ? root : document.getElementById("compose"));
    if (!form || form.dataset.wired) return;
    form.dataset.wired = "1";
    form.addEventListener("input", () => refresh(form));
    form.addEventListener("change", (event) => {
      if (event.target.matches("input[type=file]")) renderMedia(form);
      refresh(form);
    });
    renderMedia(form);
    onlyFor(form);
    count(form);
  }

  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", () => start());
  document.addEventListener("htmx:afterSettle", (event) => start(event.detail.elt));
})();
