// Problems: what `ipam check` finds, each with the command that fixes it.
import type { Problem, ProblemKind, Snapshot } from '../../src/http/api-types.js';
import { clockTime, groupDigits } from '../format.js';
import { CopyButton } from './copy.js';

const TITLES: Record<ProblemKind, string> = {
  'invalid-block': 'Invalid blocks',
  'leaked-ip': 'Leaked addresses (allocated, used by nobody)',
  'multiple-owners': 'Addresses with several owners',
  'not-in-pool': 'In use outside every enabled pool',
  'no-allocation': 'In use without an IPAM allocation',
  'leaked-handle': 'Handles without addresses',
  'missing-handle': 'Handles named in blocks but missing (not counted by ipam check)',
};

export function ProblemsView({ snapshot }: { snapshot: Snapshot }) {
  if (snapshot.checkPending)
    return (
      <section aria-labelledby="problems-title">
        <h1 id="problems-title">Problems</h1>
        <p class="banner checking" role="status" data-testid="check-pending">
          <span aria-hidden="true" class="spinner" />
          Checking… The first <code>ipam check</code> of this store is running; its problems appear
          here when it ends. Pools, blocks and the block map are already live.
        </p>
      </section>
    );
  const p = snapshot.problems;
  const groups = new Map<ProblemKind, Problem[]>();
  for (const item of p.items) {
    const list = groups.get(item.kind);
    if (list) list.push(item);
    else groups.set(item.kind, [item]);
  }
  return (
    <section aria-labelledby="problems-title">
      <h1 id="problems-title">Problems</h1>
      <p class={`banner ${p.problemCount > 0 ? 'warn' : 'good'}`} data-testid="problem-count">
        <span aria-hidden="true">{p.problemCount > 0 ? '⚠ ' : '✓ '}</span>
        ipam check: found {groupDigits(p.problemCount)} problem{p.problemCount === 1 ? '' : 's'} ·{' '}
        {groupDigits(p.allocationCount)} allocations, {groupDigits(p.inUseCount)} addresses in use
        by workloads and nodes, {groupDigits(p.handlesWithIps)} handles with addresses.
      </p>
      <p class="hint">
        As of the check at {clockTime(snapshot.checkedAt)} (it took {Math.round(snapshot.checkMs)}{' '}
        ms; it runs again after changes, at most once per four of its durations).
      </p>
      {[...groups].map(([kind, items]) => (
        <section key={kind} class="problem-group" aria-label={TITLES[kind]}>
          <h2>
            {TITLES[kind]} <span class="count">{items.length}</span>
          </h2>
          <ul class="problems">
            {items.map((item, i) => (
              <li key={`${kind}-${i}`} data-kind={kind}>
                <div class="problem-text">{item.text}</div>
                <div class="fix">
                  <span class="fix-label">Fix:</span> <code>{item.fix}</code>{' '}
                  <CopyButton text={item.fix} />
                </div>
                <div class="sub">{item.fixNote}</div>
              </li>
            ))}
          </ul>
        </section>
      ))}
      {p.omitted > 0 && (
        <p class="hint">
          {groupDigits(p.omitted)} more problems are not listed here: run{' '}
          <code>cidrpool ipam check --show-problem-ips</code>.
        </p>
      )}
    </section>
  );
}
