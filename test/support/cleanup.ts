// Runs in every test file (vitest setupFiles): what tempDir() made goes when the file's tests end.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.js';

afterAll(() => removeTempDirs());
