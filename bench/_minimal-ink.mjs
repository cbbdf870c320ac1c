// The floor: a minimal Ink app that renders one line and exits.
import { render, Text } from 'ink';
import { createElement } from 'react';

const instance = render(createElement(Text, null, 'Runbook sections'));
setTimeout(() => instance.unmount(), 50);
