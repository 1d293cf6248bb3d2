// Page-through viewers (templates/_viewer.html): the bar follows the page on screen, its buttons and
// the keyboard's arrow keys move one page at a time. Without this script the pages still scroll and
// the bar's links jump to pages by their anchors.
(function () {
  "use strict";
  document.querySelectorAll("[data-viewer]").forEach((viewer) => {
    const pages = Array.from(viewer.querySelectorAll("[data-page]"));
    if (!pages.length) return;
    const current = viewer.querySelector("[data-viewer-current]");
    const prev = viewer.querySelector("[data-viewer-prev]");
    const next = viewer.querySelector("[data-viewer-next]");
    let shown = 1;
    function show(number) {
      shown = Math.min(Math.max(number, 1), pages.length);
      current.textContent = shown;
      prev.href = `#page-${Math.max(shown - 1, 1)}`;
      next.href = `#page-${Math.min(shown + 1, pages.length)}`;
      prev.setAttribute("aria-disabled", shown === 1);
      next.setAttribute("aria-disabled", shown === pages.length);
    }
    function go(number) {
      const target = pages[Math.min(Math.max(number, 1), pages.length) - 1];
      target.scrollIntoView({ block: "start", behavior: "smooth" });
      show(Number(target.dataset.page));
    }
    prev.addEventListener("click", (event) => { event.preventDefault(); go(shown - 1); });
    next.addEventListener("click", (event) => { event.preventDefault(); go(shown + 1); });
    document.addEventListener("keydown", (event) => {
      if (/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "ArrowRight" || event.key === "ArrowDown" && event.shiftKey) { event.preventDefault(); go(shown + 1); }
      if (event.key === "ArrowLeft" || event.key === "ArrowUp" && event.shiftKey) { event.preventDefault(); go(shown - 1); }
    });
    if ("IntersectionObserver" in window) {
      // The page that fills most of the screen is the current one.
      const visible = new Map();
      const observer = new IntersectionObserver((entries) => {
        for (const entry of entries) visible.set(Number(entry.target.dataset.page), entry.intersectionRatio);
        let best = shown, ratio = 0;
        for (const [page, r] of visible) if (r > ratio) { best = page; ratio = r; }
        if (ratio > 0) show(best);
      }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
      pages.forEach((page) => observer.observe(page));
    }
    const start = Number((location.hash.match(/^#page-(\d+)$/) || [])[1]);
    if (start) show(start); else show(1);
  });
})();
