// Development shim: Node 20 cannot run a .ts worker; when smtpbench runs from src/ this file loads the entry through tsx.
import { tsImport } from 'tsx/esm/api';

await tsImport('./thread.ts', import.meta.url);
