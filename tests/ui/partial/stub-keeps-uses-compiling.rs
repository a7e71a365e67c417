// Only the derive's mistake is reported: the type still implements `Partial`, so the streamed
// task below compiles.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
#[opper(partial_name = "LiveTeam")]
struct Team {
    name: String,
}

/// Extract the team.
#[opper::function]
async fn extract_team(text: String) -> opper::Result<opper::Stream<Team>>;

fn main() {
    let _ = extract_team;
}
