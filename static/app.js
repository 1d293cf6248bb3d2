// Bridge's small progressive enhancements. No inline scripts: everything hangs off data-* attributes.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Copy buttons: copy the target's text, and tell the server when data-copy-log is set.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    try {
      await navigator.clipboard.writeText(target.innerText.trim());
      button.textContent = "Copied ✓";
    } catch (err) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      button.textContent = "Press Ctrl+C to copy";
    }
    if (button.dataset.copyLog) {
      fetch(button.dataset.copyLog, { method: "POST", headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" });
    }
  });

  // Confirm destructive actions.
  document.addEventListener("submit", (event) => {
    const button = event.submitter || event.target.querySelector("[data-confirm]");
    if (button && button.dataset && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // Progress feedback on slow forms (uploads are read and thumbnailed server-side).
    const form = event.target;
    if (form.dataset.progress) {
      const note = form.querySelector(".progress");
      if (note) { note.hidden = false; note.textContent = form.dataset.progress; }
      const buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach((b) => { b.disabled = true; });
      // A download leaves the page in place: give the form back once the file is on its way.
      if (form.dataset.download !== undefined) {
        setTimeout(() => { buttons.forEach((b) => { b.disabled = false; }); if (note) note.hidden = true; }, 5000);
      }
    }
  });
})();

// Search: "/" focuses the search box, facets and sort apply at once, suggestions as you type.
(function () {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) return;
    const box = document.querySelector("#q, [data-shortcut='/']");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) {
      const form = event.target.form;
      const page = form.querySelector("input[name=page]");
      if (page) page.remove();
      form.submit();
    }
  });
  const box = document.querySelector("input[data-suggest]");
  if (!box) return;
  const list = document.getElementById(box.getAttribute("list"));
  let timer = null;
  let last = "";
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = box.value.trim();
      if (q.length < 2 || q === last) return;
      last = q;
      try {
        const response = await fetch(`${box.dataset.suggest}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        list.replaceChildren(...data.suggestions.map((s) => {
          const option = document.createElement("option");
          option.value = s.kind === "tag" ? `tag:${s.label}` : s.label;
          option.label = s.kind === "tag" ? `Tag: ${s.label}` : s.label;
          return option;
        }));
      } catch (err) { /* suggestions are optional */ }
    }, 150);
  });
})();
