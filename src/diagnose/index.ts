export {
  type DiagnoseInput,
  diagnoseFiles,
  diagnoseInputs,
  diagnoseStreams,
  diagnoseText,
} from './engine.js';
export { checkSignatures, KB_FILES, loadKnowledgeBase, parseKnowledgeBase } from './knowledge-base.js';
export { EVIDENCE_LIMIT, Matcher } from './matcher.js';
export {
  decodeRmInitAdapter,
  decodeXid,
  nvStatusName,
  parseRmInitAdapter,
  type RmInitDecoded,
  type RmInitStage,
  rmInitStage,
  type XidDecoded,
} from './nvidia-codes.js';
export { detectKind, stripPrefix } from './prefix.js';
export type {
  Decoded,
  DiagnoseReport,
  Evidence,
  Finding,
  InputKind,
  InputSummary,
  Severity,
  Signature,
  SignatureSource,
} from './types.js';
