// The pharmacy counter as a web app (docs/web.md §"The pharmacy counter").
import { startStaffApp } from '../shared/js/staff.js';
import { RX_REASONS } from '../shared/js/rx-words.js';
import * as counter from './page-counter.js';
import * as dispenses from './page-dispenses.js';
import * as staff from '../shared/js/page-staff.js';

startStaffApp({
  title: 'the pharmacy counter',
  home: 'counter',
  routes: {
    counter: { title: 'Counter', page: counter },
    dispenses: { title: 'Today’s dispenses', page: dispenses },
    staff: { title: 'Staff', page: staff },
  },
  managerRole: 'pharmacist',
  roleWords: { technician: 'Technician (prepares, cannot dispense)', pharmacist: 'Pharmacist (dispenses)' },
  reasons: {
    ...RX_REASONS,
    not_held: 'Nothing verified waits for a decision on this request.',
    already_presented: 'A prescription was already presented for this request.',
  },
  newcomerHint: 'New here? Open the setup link a pharmacist gave you (or that `medallion pharmacy add-staff` printed) on this device.',
});
