// The public viewer reports how long each page was at least half on screen (no cookies, no identifiers).
(function () {
  "use strict";
  const box = document.querySelector("[data-seen-url]");
  if (!box || !("IntersectionObserver" in window)) return;
  const url = box.dataset.seenUrl;
  const shownSince = new Map();  // page -> time it became visible
  const seconds = new Map();     // page -> seconds not yet reported
  function stop(page) {
    if (!shownSince.has(page)) return;
    seconds.set(page, (seconds.get(page) || 0) + (performance.now() - shownSince.get(page)) / 1000);
    shownSince.delete(page);
  }
  function report() {
    for (const [page, secs] of seconds) {
      if (secs < 1) continue;
      const data = new FormData();
      data.append("page", page);
      data.append("seconds", secs.toFixed(1));
      navigator.sendBeacon(url, data);
      seconds.delete(page);
    }
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const page = entry.target.dataset.page;
      if (entry.intersectionRatio >= 0.5) shownSince.set(page, performance.now());
      else stop(page);
    }
  }, { threshold: [0, 0.5] });
  box.querySelectorAll("[data-page]").forEach((page) => observer.observe(page));
  function flush() { for (const page of Array.from(shownSince.keys())) { stop(page); shownSince.set(page, performance.now()); } report(); }
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  setInterval(flush, 15000);
})();
