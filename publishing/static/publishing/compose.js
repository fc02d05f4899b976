// An approximation of each platform's count, to help while typing; the server check decides.
(function () {
  const platforms = JSON.parse(document.getElementById("account-platforms").textContent);
  const limits = JSON.parse(document.getElementById("text-limits").textContent);
  const form = document.getElementById("compose");
  const text = form.querySelector("[name=text]");
  const out = document.getElementById("char-counts");
  function length(platform, value) {
    if (platform !== "x") return [...value].length;
    // X counts every link as 23 and wide characters (emoji, CJK) as 2.
    const withoutLinks = value.replace(/https?:\/\/\S+/g, "");
    const links = (value.match(/https?:\/\/\S+/g) || []).length;
    let n = links * 23;
    for (const ch of withoutLinks) n += ch.codePointAt(0) > 0x10ff ? 2 : 1;
    return n;
  }
  function update() {
    const chosen = new Set();
    form.querySelectorAll("[name=accounts]:checked").forEach((box) => chosen.add(platforms[box.value]));
    out.textContent = [...chosen].map((platform) => {
      const n = length(platform, text.value), limit = limits[platform];
      return `${platform}: ${n} / ${limit}${n > limit ? " (too long)" : ""}`;
    }).join(" · ");
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
