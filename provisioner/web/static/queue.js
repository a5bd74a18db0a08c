// The queue reloads its rows when the server says the tickets changed (Server-Sent Events),
// and answers a few keys: j/k move, Enter opens, / goes to the filters, m my tickets, n new.
// A file of its own, not inline: the Content-Security-Policy allows scripts from this site only.
(function () {
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("live-status");
  const params = new URLSearchParams(window.location.search);
  params.set("fragment", "1");
  let current = -1;
  function lines() { return Array.from(rows.querySelectorAll("tr[data-ticket]")); }
  function select(index) {
    const all = lines();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === current));
    all[current].focus();
  }
  function reload() {
    fetch("/tickets?" + params.toString(), {credentials: "same-origin"})
      .then(r => r.ok ? r.text() : Promise.reject(r.status))
      .then(html => { rows.innerHTML = html; if (current >= 0) { select(current); } })
      .catch(() => { status.textContent = "sin conexión"; });
  }
  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j") { select(current + 1); }
    else if (event.key === "k") { select(current - 1); }
    else if (event.key === "Enter" && current >= 0) { const link = lines()[current].querySelector("a"); if (link) { window.location = link.href; } }
    else if (event.key === "/") { event.preventDefault(); const first = document.querySelector(".filters select"); if (first) { first.focus(); } }
    else if (event.key === "m") { window.location = "/tickets?view=mine"; }
    else if (event.key === "n") { window.location = "/tickets/new"; }
    else { return; }
  });
  const source = new EventSource("/tickets/events");
  source.addEventListener("queue", reload);
  source.onopen = () => { status.textContent = "en vivo"; };
  source.onerror = () => { status.textContent = "reconectando…"; };
})();
