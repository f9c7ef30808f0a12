/* Follow a training run: poll its status.json every second until it succeeds or fails. */
(function () {
  const run = document.getElementById("run");
  if (!run) return;
  const FINISHED = ["succeeded", "failed"];
  const bar = document.getElementById("run-progress");
  const percent = document.getElementById("run-percent");
  const stage = document.getElementById("run-stage");
  const badge = document.getElementById("run-status");
  const result = document.getElementById("run-result");
  const flashes = document.getElementById("run-flashes");

  /* Times are UTC everywhere, as the server renders them: 2025-03-01 14:05 UTC. */
  function showTime(id, iso) {
    const cell = document.getElementById(id);
    if (!iso) {
      cell.textContent = "–";
      return;
    }
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = iso.replace("T", " ").slice(0, 16) + " UTC";
    cell.replaceChildren(time);
  }

  /* The flash of the action that led here ("queued") stops being true once the status moves on. */
  function dropStaleFlashes(status) {
    if (flashes && flashes.dataset.status !== status) flashes.replaceChildren();
  }

  function seconds(value) {
    if (value === null || value === undefined) return "–";
    if (value < 60) return value.toFixed(1) + " s";
    return Math.floor(value / 60) + " min " + String(Math.floor(value % 60)).padStart(2, "0") + " s";
  }

  function box(kind, role, id) {
    const div = document.createElement("div");
    div.className = "flash flash-" + kind;
    div.setAttribute("role", role);
    if (id) div.id = id;
    return div;
  }

  function showResult(status) {
    result.replaceChildren();
    if (status.status === "succeeded" && status.version_url) {
      const div = box("success", "status");
      const link = document.createElement("a");
      link.id = "run-version-link";
      link.href = status.version_url;
      link.textContent = status.type + " v" + status.version;
      div.append("Created ", link, ".");
      result.append(div);
    } else if (status.status === "failed") {
      const div = box("danger error-box", "alert", "run-error");
      const strong = document.createElement("strong");
      strong.textContent = "The run failed:";
      div.append(strong, " " + (status.error || "no reason was recorded"));
      result.append(div);
    }
  }

  function render(status) {
    bar.value = status.progress;
    percent.textContent = Math.round(status.progress * 100) + " %";
    stage.textContent = status.stage;
    const span = document.createElement("span");
    span.className = "badge badge-" + status.status;
    span.textContent = status.status;
    badge.replaceChildren(span);
    showTime("run-started", status.started_at);
    showTime("run-finished", status.finished_at);
    document.getElementById("run-duration").textContent = seconds(status.duration_seconds);
    run.dataset.status = status.status;
    dropStaleFlashes(status.status);
    if (FINISHED.includes(status.status)) showResult(status);
  }

  async function poll() {
    try {
      const response = await fetch(run.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const status = await response.json();
      render(status);
      if (FINISHED.includes(status.status)) return;
    } catch (error) {
      stage.textContent = "lost contact with the server (" + error.message + "), retrying…";
    }
    window.setTimeout(poll, 1000);
  }

  if (!FINISHED.includes(run.dataset.status)) window.setTimeout(poll, 1000);
})();
