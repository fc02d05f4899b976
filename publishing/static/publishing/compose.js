// The compose page's live counter. An approximation while typing; the server check decides.
(function () {
  "use strict";
  function start() {
    const form = document.getElementById("compose");
    if (!form) return;
    const platforms = JSON.parse(document.getElementById("account-platforms").textContent);
    const limits = JSON.parse(document.getElementById("text-limits").textContent);
    const text = form.querySelector("[name=text]");
    const out = document.getElementById("char-counts");
    function length(platform, value) {
      if (platform !== "x") return [...value].length;
      const withoutLinks = value.replace(/https?:\/\/\S+/g, "");
      const links = (value.match(/https?:\/\/\S+/g) || []).length;
      let n = links * 23;
      for (const ch of withoutLinks) n += ch.codePointAt(0) > 0x10ff ? 2 : 1;
      return n;
    }
    function update() {
      const chosen = new Set();
      form.querySelectorAll("[name=accounts]:checked").forEach((box) => chosen.add(platforms[box.value]));
      out.replaceChildren(...[...chosen].map((platform) => {
        const n = length(platform, text.value), limit = limits[platform];
        const item = document.createElement("li");
        item.className = "counter" + (n > limit ? " over" : "");
        item.textContent = `${platform}: ${n} / ${limit}${n > limit ? " (too long)" : ""}`;
        return item;
      }));
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }
  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
