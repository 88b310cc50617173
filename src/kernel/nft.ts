// The nftables adapter: list one table as JSON (`nft -j list table`), apply a script
// (`nft -f -` on stdin). It only ever names the tables its caller gives it, and it is the one
// place where nft's failures become CidrpoolErrors (KERNEL_NFT_MISSING, KERNEL_NFT_FAILED).
import { spawn } from 'node:child_process';
import { CidrpoolError } from '../errors/index.js';

/** One object of `nft -j` output (`{ "table": {...} }`, `{ "rule": {...} }`, ...). */
export type NftObject = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface Nft {
  /**
   * The objects of one table (table, sets, chains, rules; no metainfo), or undefined when the
   * table does not exist. Throws KERNEL_NFT_MISSING, KERNEL_NFT_FAILED.
   */
  listTable(family: 'ip' | 'ip6', name: string): Promise<NftObject[] | undefined>;
  /** Run a script as one transaction: all of it applies or none. Throws KERNEL_NFT_MISSING, KERNEL_NFT_FAILED. */
  applyScript(script: string): Promise<void>;
}

export interface NftOptions {
  /** The nft program; default `nft` from PATH. */
  readonly program?: string;
  /** Deadline of one nft call; default 10 s. */
  readonly timeoutMs?: number;
}

interface NftRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(program: string, args: string[], stdin: string, timeoutMs: number): Promise<NftRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new CidrpoolError(
            'KERNEL_NFT_MISSING',
            `cannot run ${program}: not found; install nftables (apt-get install nftables)`,
            { cause: err },
          ),
        );
      } else reject(err);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // nft may exit before reading all of stdin
    child.stdin.end(stdin);
  });
}

const failed = (what: string, result: NftRun): CidrpoolError =>
  new CidrpoolError(
    'KERNEL_NFT_FAILED',
    `nft ${what} failed (exit ${result.code ?? 'killed'}): ${result.stderr.trim() || 'no message'}`,
    { details: { stderr: result.stderr } },
  );

/** The nftables adapter of the network namespace this process runs in. */
export function createNft(options: NftOptions = {}): Nft {
  const program = options.program ?? 'nft';
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async listTable(family, name) {
      const result = await run(program, ['-j', 'list', 'table', family, name], '', timeoutMs);
      if (result.code !== 0) {
        // ENOENT from the kernel: the table does not exist, which is an answer, not a failure.
        if (/No such file or directory/.test(result.stderr)) return undefined;
        throw failed(`list table ${family} ${name}`, result);
      }
      const parsed = JSON.parse(result.stdout) as { nftables?: NftObject[] };
      return (parsed.nftables ?? []).filter((object) => !('metainfo' in object));
    },
    async applyScript(script) {
      const result = await run(program, ['-f', '-'], script, timeoutMs);
      if (result.code !== 0) throw failed('-f', result);
    },
  };
}
