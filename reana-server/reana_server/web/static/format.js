// Dates, durations and sizes as people read them. The API gives UTC times without a zone.

export function parseTime(value) {
  if (!value) return null;
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(value) {
  const date = value instanceof Date ? value : parseTime(value);
  if (!date) return "–";
  return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function ago(value) {
  const date = value instanceof Date ? value : parseTime(value);
  if (!date) return "";
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 45) return "a few seconds ago";
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [name, size] of units) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "a minute ago";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const ENDED_AT = { finished: "run_finished_at", failed: "run_finished_at", stopped: "run_stopped_at" };

export function runDuration(run) {
  const progress = run.progress || {};
  const start = parseTime(progress.run_started_at);
  if (!start) return null;
  const endKey = ENDED_AT[run.status];
  const end = endKey ? parseTime(progress[endKey]) || parseTime(progress.run_finished_at) : new Date();
  if (!end) return null;
  return (end.getTime() - start.getTime()) / 1000;
}

export function runEnd(run) {
  const progress = run.progress || {};
  return progress.run_finished_at || progress.run_stopped_at || null;
}

export function steps(run) {
  const progress = run.progress || {};
  const total = (progress.total || {}).total || 0;
  const finished = (progress.finished || {}).total || 0;
  return { total, finished: run.status === "finished" ? Math.max(finished, total) : finished };
}

export function splitName(fullName) {
  const index = (fullName || "").indexOf(".");
  return index < 0 ? [fullName, ""] : [fullName.slice(0, index), fullName.slice(index + 1)];
}

export function humanSize(bytes) {
  if (bytes === null || bytes === undefined || bytes < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(value < 10 ? 2 : 1) : value} ${units[unit]}`;
}
