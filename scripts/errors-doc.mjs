// Regenerates docs/errors.md from the error registry (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../dist/src/errors/render-doc.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
