// Copy a command to the clipboard (only where the browser allows it: secure contexts).
import { useState } from 'preact/hooks';

export function CopyButton({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  if (!navigator.clipboard) return null;
  return (
    <button
      type="button"
      class="copy"
      aria-label={`Copy: ${text}`}
      onClick={() =>
        void navigator.clipboard.writeText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        })
      }
    >
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}
