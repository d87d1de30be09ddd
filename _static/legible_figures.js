// Figures stay legible on a phone (_ext/legible_figures.py): the build gives each notebook
// figure the class ddpm-legible-<W>, the narrowest width (CSS px) at which its smallest
// label is still 9 px; this sets it as --ddpm-legible, which _static/ddpm.css uses as the
// figure's min-width on narrow screens (its output box then scrolls sideways).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("img.ddpm-figure").forEach((img) => {
    const cls = Array.from(img.classList).find((c) => c.startsWith("ddpm-legible-"));
    const width = cls ? parseInt(cls.slice("ddpm-legible-".length), 10) : NaN;
    if (Number.isFinite(width) && width > 0) img.style.setProperty("--ddpm-legible", `${width}px`);
  });
});
