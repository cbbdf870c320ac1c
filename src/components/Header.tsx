import { Box, Text } from 'ink';
import type { TargetInfo } from '../runbook/journal.js';

/** Always on screen: where actions go. SANDBOX is unmistakable. */
export function Header({ target }: { target: TargetInfo }) {
  return (
    <Box
      borderStyle="round"
      borderColor={target.sandbox ? 'yellow' : 'cyan'}
      paddingX={1}
      flexDirection="column"
    >
      <Box gap={2}>
        <Text bold>db-runbook</Text>
        {target.sandbox ? (
          <Text backgroundColor="yellow" color="black" bold>
            {' SANDBOX '}
          </Text>
        ) : (
          <Text>
            context <Text bold>{target.context}</Text>
          </Text>
        )}
        <Text>
          namespace <Text bold>{target.namespace}</Text>
        </Text>
      </Box>
      <Text dimColor>
        S3 {target.s3Endpoint ?? '(not set)'} · bucket {target.bucket ?? '(not set)'}
        {target.server ? ` · API ${target.server}` : ''}
      </Text>
      {target.sandbox ? (
        <Text dimColor>
          Everything is local and temporary
          {target.sandboxStartupMs !== undefined ? ` (started in ${target.sandboxStartupMs} ms)` : ''}; Neo4j
          tools are stand-ins (no Neo4j server runs here).
        </Text>
      ) : null}
    </Box>
  );
}
