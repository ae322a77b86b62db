// The people's steps of the prescription flow as commands (docs/roles.md "The flow by hand"):
// `issuer onboard|revoke|suspend|reinstate`, `physician signin|write|prescribe|deliver`,
// `pharmacy present|dispense`. Built on flow.h, like `medallion demo`.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {

// Adds onboard/revoke/suspend/reinstate to `issuer`, present/dispense to `pharmacy`, and the
// `physician` group to `app`.
void AddFlowCommands(CLI::App& app, CLI::App* issuer, CLI::App* pharmacy, int& rc);

}  // namespace medallion::cli
