// The queue reloads its rows when the server says the tickets changed (Server-Sent Events).
// A file of its own, not inline: the Content-Security-Policy allows scripts from this site only.
(function () {
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("live-status");
  const params = new URLSearchParams(window.location.search);
  params.set("fragment", "1");
  function reload() {
    fetch("/tickets?" + params.toString(), {credentials: "same-origin"})
      .then(r => r.ok ? r.text() : Promise.reject(r.status))
      .then(html => { rows.innerHTML = html; })
      .catch(() => { status.textContent = "sin conexión"; });
  }
  const source = new EventSource("/tickets/events");
  source.addEventListener("queue", reload);
  source.onopen = () => { status.textContent = "en vivo"; };
  source.onerror = () => { status.textContent = "reconectando…"; };
})();
