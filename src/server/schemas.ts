// The schemas moved to the contract module, src/api/; this re-export keeps older imports working.
export * from '../api/index.js';
