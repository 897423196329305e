// Development shim: tinypool cannot load a .ts worker on Node 20, so when smtpbench runs from
// src/ (vitest, tsx) the pool loads this file, which imports the TypeScript entry through tsx.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);
export default mod.default;
