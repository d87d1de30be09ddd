// The status filter of the verification ledger (book/ledger.md, _ext/ledger.py): a button
// per status shows only the steps with that status. Does nothing on other pages.
document.addEventListener("DOMContentLoaded", () => {
  const filter = document.querySelector(".ledger-filter");
  if (!filter) return;
  const buttons = Array.from(filter.querySelectorAll("button[data-status]"));
  const show = (status) => {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.status === status)));
    document.querySelectorAll("li.ledger-item").forEach((li) => {
      li.hidden = status !== "all" && !li.classList.contains(status);
    });
    document.querySelectorAll("section.ledger-chapter").forEach((sec) => {
      const list = sec.querySelector("ul.ledger-list");
      const none = list && !list.querySelector("li.ledger-item:not([hidden])");
      sec.classList.toggle("ledger-empty", Boolean(none));
    });
  };
  buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.status)));
});
