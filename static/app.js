// Bridge's small progressive enhancements. No inline scripts: everything hangs off data-* attributes.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Copy buttons: put exactly the target's text on the clipboard (an input's value, or the text as
  // shown), say "Copied ✓" only once the browser has taken it, and tell the server when
  // data-copy-log is set. Where the clipboard is refused (no permission, an http:// address), the
  // text is selected instead and the rep is told to press Ctrl+C.
  function isField(target) {
    return "value" in target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
  }
  function textOf(target) {
    if (isField(target)) return target.value;
    // innerText leaves out list numbers and bullets (CSS markers): write them in for the moment of
    // reading, so the clipboard holds "1. …" and "• …" as the rep sees them (no paint happens between).
    const added = [];
    target.querySelectorAll("li").forEach((li) => {
      const list = li.parentElement;
      const marker = document.createElement("span");
      marker.textContent = list && list.tagName === "OL"
        ? `${(list.start || 1) + Array.prototype.indexOf.call(list.children, li)}. ` : "• ";
      li.prepend(marker);
      added.push(marker);
    });
    const text = target.innerText.trim();
    added.forEach((marker) => marker.remove());
    return text;
  }
  async function write(target, text) {
    // Formatted text too (lists, bold) where the browser takes it, for pasting into an email.
    if (!isField(target) && window.ClipboardItem && navigator.clipboard.write) {
      try {
        await navigator.clipboard.write([new ClipboardItem({
          "text/plain": new Blob([text], { type: "text/plain" }),
          "text/html": new Blob([target.innerHTML], { type: "text/html" }),
        })]);
        return;
      } catch (err) { /* fall back to plain text */ }
    }
    await navigator.clipboard.writeText(text);
  }
  function selectText(target) {
    if (target.tagName === "INPUT" || target.tagName === "TEXTAREA") { target.focus(); target.select(); return; }
    const range = document.createRange();
    range.selectNodeContents(target);
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  function say(button, message, ok) {
    const note = button.parentElement.querySelector(".copy-note");
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = ok ? "Copied ✓" : button.dataset.label;
    if (note) note.textContent = message;
    button.classList.toggle("copied", ok);
  }
  // Choosing a deal fills an empty Account field (or a template's customer field) with the deal's
  // account; an account the rep typed is kept.
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select#opportunity");
    const account = select && select.form && select.form.querySelector("input[name=account], input[data-deal-account]");
    if (!account) return;
    const chosen = select.selectedOptions[0];
    if (!account.value.trim() || account.dataset.filled === account.value) {
      account.value = (chosen && chosen.dataset.account) || "";
      account.dataset.filled = account.value;
    }
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    const text = textOf(target);
    try {
      if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error("no clipboard");
      await write(target, text);
    } catch (err) {
      selectText(target);
      say(button, "Press Ctrl+C (⌘C on a Mac) to copy the selected text.", false);
      return;
    }
    say(button, "", true);
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
      const submitter = event.submitter;
      if (note) { note.hidden = false; note.textContent = (submitter && submitter.dataset.progress) || form.dataset.progress; }
      // A disabled button is not sent: keep the clicked button's name and value in the form, or the
      // server cannot tell "Preview" from "Create PDF".
      if (submitter && submitter.name && !submitter.hasAttribute("formaction")) {
        form.querySelectorAll("input[data-submitter]").forEach((old) => old.remove());
        const carried = document.createElement("input");
        carried.type = "hidden"; carried.name = submitter.name; carried.value = submitter.value;
        carried.dataset.submitter = "";
        form.appendChild(carried);
      }
      const buttons = form.querySelectorAll("button[type=submit]");
      // Disabled only after this event: disabling the submitter now would drop it from the submission.
      setTimeout(() => buttons.forEach((b) => { b.disabled = true; }), 0);
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
      const page = form.elements.namedItem("page");
      if (page) page.remove();
      form.submit();
    }
  });
  // On a phone the filters start folded, chosen or not ("Filters (2 chosen)"): the results come first
  // (a new rep found the first result 1.6 screens down once a filter was ticked).
  document.querySelectorAll("details[data-collapse-narrow]:not([data-keep-open])").forEach((details) => {
    if (window.matchMedia("(max-width: 760px)").matches) details.open = false;
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

// Bulk customize: the "First row" column follows the column chosen for each field.
(function () {
  "use strict";
  document.querySelectorAll("table[data-first-row]").forEach((table) => {
    const row = JSON.parse(table.dataset.firstRow);
    table.addEventListener("change", (event) => {
      const cell = table.querySelector(`[data-sample-for="${event.target.id}"]`);
      if (cell) cell.textContent = row[event.target.value] || "";
    });
  });
})();

// Bulk selection: a "select all" box (shown only with JavaScript) ticks every row's box in its form.
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const boxes = () => all.form.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`);
    all.hidden = false;
    all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
  });
})();

// "More like this" and other parts a page fills in after it is shown: fetched once, put in place.
(function () {
  "use strict";
  document.querySelectorAll("[data-fragment]").forEach(async (slot) => {
    try {
      const response = await fetch(slot.dataset.fragment, { headers: { "X-Fragment": "1" } });
      if (response.ok) slot.innerHTML = await response.text();
    } catch (err) { /* the page is whole without it */ }
  });
})();

// Phone: the Menu button folds and unfolds the main navigation.
(function () {
  "use strict";
  const button = document.querySelector(".nav-toggle");
  if (!button) return;
  const bar = button.closest(".topbar");
  bar.classList.add("nav-folds");
  button.hidden = false;
  button.addEventListener("click", () => {
    const open = bar.classList.toggle("nav-open");
    button.setAttribute("aria-expanded", String(open));
  });
})();

// Tables wider than the screen scroll sideways in their box: the box takes keyboard focus (arrow
// keys scroll it) and is named after the table's caption or the heading above it.
(function () {
  "use strict";
  document.querySelectorAll(".table-scroll").forEach((box) => {
    if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) return;
    const caption = box.querySelector("caption");
    const heading = box.closest("section")?.querySelector("h2, h3");
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", (caption || heading)?.textContent.trim() || "Table");
  });
})();

// Template editor: the preview beside the form follows the draft (a second after typing stops).
(function () {
  "use strict";
  const form = document.querySelector("form[data-live-preview]");
  if (!form) return;
  const panel = document.querySelector(".preview-panel");
  const image = panel.querySelector("img.doc-preview");
  const error = panel.querySelector(".live-error");
  panel.querySelector(".live-note").hidden = false;
  let timer = null;
  let sent = 0;
  const refresh = async () => {
    const mine = ++sent;
    const body = new FormData(form);
    try {
      const response = await fetch(form.dataset.livePreview, { method: "POST", body });
      const answer = await response.json();
      if (mine !== sent) return;  // a newer draft is on its way
      error.hidden = !answer.error;
      error.textContent = answer.error || "";
      if (answer.image) {
        image.src = answer.image;
        image.hidden = false;
        panel.querySelector(".no-preview")?.remove();
      }
    } catch (err) { /* the Preview button still works */ }
  };
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 1000); });
  form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
})();

// A job's page: poll its status (1 s, slowing to 5 s while nothing changes, paused while the tab is
// hidden), show its progress, and load the page once more when it ends, for its result.
(function () {
  "use strict";
  const panel = document.querySelector("[data-job-status]");
  if (!panel) return;
  const bar = panel.querySelector("[data-job-bar]");
  const count = panel.querySelector("[data-job-count]");
  const state = panel.querySelector("[data-job-state]");
  const note = panel.querySelector("[data-job-note]");
  let delay = 1000;
  let last = "";
  const poll = async () => {
    if (document.hidden) { setTimeout(poll, delay); return; }
    try {
      const response = await fetch(panel.dataset.jobStatus, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const job = await response.json();
      if (job.finished) { window.location.reload(); return; }
      bar.value = job.percent;
      bar.textContent = job.percent + " %";
      count.textContent = job.total ? job.done + " of " + job.total : "";
      state.textContent = job.state === "queued" ? "Waiting for a worker" : "Working";
      note.textContent = job.note;
      const seen = job.state + job.done;
      delay = seen === last ? Math.min(delay * 1.5, 5000) : 1000;
      last = seen;
    } catch (err) {
      delay = Math.min(delay * 2, 15000);
    }
    setTimeout(poll, delay);
  };
  setTimeout(poll, delay);
})();
