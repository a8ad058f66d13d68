// Test users, made with the server's own command line (`gatehouse user
// create`), which reads the database settings from the environment that
// scripts/screenshots exports.

import { execFile } from 'node:child_process';

const CLI = process.env.GATEHOUSE_CLI || '';

/** Creates a user of tenant `slug`; resolves to the user's record. */
export function createUser(slug, { username, email, name, password, roles = [] }) {
  if (!CLI) throw new Error('GATEHOUSE_CLI is not set: it names the gatehouse binary used to create test users');
  const args = ['user', 'create', '--tenant', slug, '--username', username, '--password-stdin', '--json'];
  if (email) args.push('--email', email);
  if (name) args.push('--name', name);
  for (const r of roles) args.push('--role', r);
  return new Promise((resolve, reject) => {
    const child = execFile(CLI, args, { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`gatehouse user create ${username}: ${err.message} ${stderr}`.trim()));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`gatehouse user create ${username}: unreadable output`));
      }
    });
    child.stdin.end(`${password}\n`);
  });
}
