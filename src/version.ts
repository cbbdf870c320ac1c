/** The tool's version: shown by --version, recorded in every journal and report. */
export const TOOL_VERSION = '0.1.0';
