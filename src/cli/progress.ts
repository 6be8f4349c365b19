/** A one-line progress display on a terminal; silent when output is piped (CI, logs). */
export function createProgress(label: string, totalBytes: number | null, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let last = 0;
  const show = stream.isTTY === true;
  return {
    update(rows: number, bytes: number, rejected: number) {
      if (!show || Date.now() - last < 200) return;
      last = Date.now();
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? rows / seconds : 0;
      const fraction = totalBytes ? Math.min(1, bytes / totalBytes) : null;
      const eta = fraction && fraction > 0 ? Math.max(0, seconds / fraction - seconds) : null;
      const bar = fraction === null ? '' : `[${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
      stream.write(`\r${label} ${bar}${rows.toLocaleString('en')} rows, ${rejected.toLocaleString('en')} rejected, ${Math.round(rate).toLocaleString('en')} rows/s${eta === null ? '' : `, ETA ${Math.ceil(eta)} s`}   `);
    },
    done() {
      if (show) stream.write('\n');
    },
  };
}
