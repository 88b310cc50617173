// The nftables adapter: list one table (`nft list table`, nft's own text), apply a script
// (`nft -f -` on stdin). It only ever names the tables its caller gives it, and it is the one
// place where nft's failures become CidrpoolErrors (KERNEL_TOOL_MISSING, KERNEL_NFT_FAILED).
import { CidrpoolError } from '../errors/index.js';
import { runTool, type ToolOutput } from './run-tool.js';

export interface Nft {
  /**
   * One table as `nft list table` prints it, or undefined when the table does not exist.
   * Throws KERNEL_TOOL_MISSING, KERNEL_NFT_FAILED.
   */
  listTable(family: 'ip' | 'ip6', name: string): Promise<string | undefined>;
  /** Run a script as one transaction: all of it applies or none. Throws KERNEL_TOOL_MISSING, KERNEL_NFT_FAILED. */
  applyScript(script: string): Promise<void>;
}

export interface NftOptions {
  /** The nft program; default `nft` from PATH. */
  readonly program?: string;
  /** Deadline of one nft call; default 10 s. */
  readonly timeoutMs?: number;
}

const failed = (what: string, result: ToolOutput): CidrpoolError =>
  new CidrpoolError(
    'KERNEL_NFT_FAILED',
    `nft ${what} failed (exit ${result.code}): ${result.stderr.trim() || 'no message'}`,
    { details: { stderr: result.stderr } },
  );

/** The nftables adapter of the network namespace this process runs in. */
export function createNft(options: NftOptions = {}): Nft {
  const program = options.program ?? 'nft';
  const run = (args: readonly string[], stdin: string) =>
    runTool(program, args, stdin, {
      timeoutMs: options.timeoutMs ?? 10_000,
      installHint: 'install nftables (apt-get install nftables)',
    });
  return {
    async listTable(family, name) {
      const result = await run(['list', 'table', family, name], '');
      if (result.code !== 0) {
        // ENOENT from the kernel: the table does not exist, which is an answer, not a failure.
        if (/No such file or directory/.test(result.stderr)) return undefined;
        throw failed(`list table ${family} ${name}`, result);
      }
      return result.stdout;
    },
    async applyScript(script) {
      const result = await run(['-f', '-'], script);
      if (result.code !== 0) throw failed('-f', result);
    },
  };
}
