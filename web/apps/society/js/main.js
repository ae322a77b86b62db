// The medical society's desk as a web app (docs/web.md §"The society's desk").
import { startStaffApp } from '../shared/js/staff.js';
import * as onboarding from './page-onboarding.js';
import * as licenses from './page-licenses.js';
import * as directory from './page-directory.js';
import * as staff from '../shared/js/page-staff.js';

startStaffApp({
  title: 'the society’s desk',
  home: 'onboarding',
  routes: {
    onboarding: { title: 'Onboarding', page: onboarding },
    licenses: { title: 'Licenses', page: licenses },
    directory: { title: 'Directory', page: directory },
    staff: { title: 'Clerks', page: staff },
  },
  managerRole: 'clerk',
  roleWords: { clerk: 'Clerk (decides, imports, revokes)', auditor: 'Auditor (reads only)' },
  reasons: {
    no_directory_match: 'No directory entry has this license number and name. Import the directory entry first, or reject the request.',
    not_confirmed: 'The change was not confirmed.',
    directory_invalid: 'The file has problems; nothing was imported.',
  },
  newcomerHint: 'New here? Open the setup link a clerk gave you (or that `medallion issuer add-clerk` printed) on this device.',
});
