// Vidline's page: wires the views to the router and the connection indicator.

import './style.css';
import { ApiError, fetchStages } from './api';
import { forgetKey, KEY_REFUSED, storedKey } from './credentials';
import { Dashboard } from './dashboard';
import { byId } from './dom';
import type { ConnectionState } from './eventStream';
import { JobView } from './jobView';
import { useStages } from './jobModel';
import { showKeyForm, startKeyForm } from './keyForm';
import { onRoute, startRouter, type Route } from './router';
import { startUploads } from './upload';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

function showConnection(state: ConnectionState): void {
  const indicator = byId('connection');
  if (indicator.dataset.state === state) return;
  indicator.dataset.state = state;
  indicator.className = `connection ${state}`;
  indicator.textContent = CONNECTION_TEXT[state];
}

const dashboard = new Dashboard(showConnection);
const jobView = new JobView(showConnection);
let first = true;

onRoute((route: Route) => {
  // One stream at a time: the one of the view on screen.
  if (route.view === 'job') {
    dashboard.stop();
    byId('home-view').hidden = true;
    void jobView.show(route.id);
  } else {
    jobView.hide();
    byId('home-view').hidden = false;
    document.title = 'Vidline';
    dashboard.start();
  }
  // After an in-page navigation, start reading (and tabbing) at the top of the new content, as after a page load.
  if (!first) {
    window.scrollTo(0, 0);
    byId('main').focus({ preventScroll: true });
  }
  first = false;
});

// Nothing is shown or fetched without an API key; a key the server refuses is forgotten and asked for again.
startKeyForm();
byId('forget-key').addEventListener('click', () => {
  forgetKey();
  location.reload();
});
window.addEventListener(KEY_REFUSED, () => {
  dashboard.stop();
  jobView.hide();
  forgetKey();
  showKeyForm('The server refused the API key this browser held (revoked, or mistyped). Enter a key to continue.');
});

if (storedKey()) {
  byId('forget-key').hidden = false;
  try {
    // The stage bars follow the server's stage table; everything else waits for it.
    useStages(await fetchStages());
    startUploads();
    startRouter();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e; // a refused key already shows the form
  }
} else {
  showKeyForm();
}
