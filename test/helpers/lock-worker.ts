// One process taking the engine's per-host lock file (src/ipam/host-lock.ts) once, for
// test/ipam/lock-file.test.ts. Argv: lock dir, marker file, go file. It says `ready`, waits for
// the go file, takes the lock, and while holding it creates the marker exclusively (a second
// holder at the same time finds it there and says `overlap`). Then it exits without releasing,
// as a killed holder would: the next taker has to break a dead holder's lock.
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { withHostLockFile } from '../../src/ipam/host-lock.js';

const [dir, marker, go] = process.argv.slice(2) as [string, string, string];
process.stdout.write('ready\n');
for (let i = 0; i < 1000 && !existsSync(go); i++) await delay(5);

await withHostLockFile(dir, 'n', 20_000, Date.now, Math.random, async () => {
  try {
    writeFileSync(marker, String(process.pid), { flag: 'wx' });
  } catch {
    process.stdout.write('overlap\n');
    process.exit(0);
  }
  await delay(20);
  unlinkSync(marker);
  process.stdout.write('held\n');
  process.exit(0); // dies holding the lock
});
