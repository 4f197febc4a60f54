// Page-weight budget of the widget: every JS and CSS file under web/widget, gzipped one by one
// (as a server or CDN would send them), must add up to at most 30 KB. Exits 1 above it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 30 * 1024;
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'widget');
let total = 0;
for (const name of readdirSync(dir).filter((f) => /\.(m?js|css)$/.test(f)).sort()) {
  const raw = readFileSync(join(dir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`${name.padEnd(14)} ${String(raw.length).padStart(7)} B  ${String(gz).padStart(6)} B gzipped`);
}
const ok = total <= BUDGET;
console.log(`widget total: ${total} B gzipped (${(total / 1024).toFixed(1)} KB of ${BUDGET / 1024} KB budget) ${ok ? 'OK' : 'OVER BUDGET'}`);
process.exit(ok ? 0 : 1);
