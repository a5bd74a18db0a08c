// Buttons with data-confirm ask before they send (resolve, escalate, reopen).
// A file of its own, not inline: the Content-Security-Policy allows scripts from this site only.
document.addEventListener("click", function (event) {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
});
