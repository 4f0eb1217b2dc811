// After a rejected form: move focus to the first field marked invalid, so keyboard and screen
// reader users land where the fix is needed.
document.addEventListener("DOMContentLoaded", () => {
  const first = document.querySelector("[aria-invalid='true']");
  if (first) first.focus();
});
