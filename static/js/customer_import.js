// A customer import's page follows its progress: the import's row is the truth, read
// through a small JSON endpoint, so a reload or a second tab shows the same.
(() => {
  const page = document.querySelector(".customer-import[data-progress-url]");
  if (!page) return;
  const unfinished = ["analysing", "queued", "running"];
  if (!unfinished.includes(page.dataset.status)) return;
  const bar = page.querySelector("progress");
  const show = (progress) => {
    page.querySelectorAll("[data-field]").forEach((field) => {
      const value = progress[field.dataset.field];
      field.textContent = value === null || value === undefined ? "–" : value;
    });
    if (bar) {
      bar.max = Math.max(progress.total_rows, 1);
      bar.value = progress.rows_done;
      bar.textContent = `${progress.percent}%`;
    }
  };
  const poll = async () => {
    try {
      const response = await fetch(page.dataset.progressUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const progress = await response.json();
        show(progress);
        if (progress.status !== page.dataset.status) {
          // A new phase (preview ready, import done) has its own page: load it.
          window.location.reload();
          return;
        }
      }
    } catch {
      // A network blip: try again at the next tick.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
})();
