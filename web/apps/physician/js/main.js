// The physician's workspace as a web app (docs/web.md §"The physician's workspace"): her own
// container, signed in as its owner with a passkey.
import { startStaffApp } from '../shared/js/staff.js';
import * as license from './page-license.js';
import * as patients from './page-patients.js';
import * as prescribe from './page-prescribe.js';
import * as prescriptions from './page-prescriptions.js';

startStaffApp({
  title: 'your workspace',
  home: 'patients',
  routes: {
    patients: { title: 'Patients', page: patients },
    prescribe: { title: 'Prescribe', page: prescribe },
    prescriptions: { title: 'My prescriptions', page: prescriptions },
    license: { title: 'My license', page: license },
  },
  who: (state) => (state.owner && state.owner.did ? `Signed in (${state.owner.did.slice(0, 18)}…)` : 'Signed in'),
  setupTitle: 'Set up this device',
  signinTitle: 'With a passkey',
  reasons: {
    no_license: 'Get your license credential first (My license).',
    no_phone: 'A controlled substance needs your phone’s co-signature: pair your phone with your container first.',
    no_wallet: 'This container does not hold your wallet, so it cannot sign.',
    unknown_medication: 'Choose a medication from the list.',
    quantity_invalid: 'The quantity is a whole number from 1 to 1000.',
    refills_over_limit: 'Too many refills for this medication.',
    schedule_not_covered: 'Your license does not cover this controlled substance.',
    container_unavailable: 'No patient’s container answers at that address.',
    not_granted: 'The patient has not allowed you to see her record yet.',
  },
  newcomerHint: 'New here? Open the setup link your container printed (or run “medallion container login-link”) on this device.',
});
