// The periodic task form (django-celery-beat): the chosen crontab's reading in plain words,
// shown under the field. As text, never as HTML.
(() => {
  const script = document.currentScript;
  const readable = JSON.parse(document.getElementById("readable-crontabs").textContent);
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) translation.style.display = "none";
  const field = document.querySelector(".field-crontab");
  const select = document.getElementById("id_crontab");
  if (!field || !select) return;
  field.addEventListener("change", () => {
    const help = field.querySelector(".help");
    if (!help) return;
    const words = readable[select.value];
    help.replaceChildren(
      script.dataset.crontabHelp,
      document.createElement("br"),
      `${script.dataset.translationLabel} ${words === undefined ? "" : words}`,
    );
  });
})();
