// A long identifier (a handle: k8s-pod-network.<64 hex digits>) cut to its start and end, whole
// in the title and for screen readers.
const KEEP = 28;

export function Shortened({ text }: { text: string | undefined }) {
  if (text === undefined) return <>—</>;
  if (text.length <= KEEP + 4) return <>{text}</>;
  return (
    <span title={text} aria-label={text}>
      {text.slice(0, KEEP - 8)}…{text.slice(-8)}
    </span>
  );
}
