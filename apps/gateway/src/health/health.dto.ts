import { ApiProperty } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ example: 'live' }) status!: string;
  @ApiProperty({ description: 'The gateway process id (fault tooling SIGKILLs it)', example: 4242 }) pid!: number;
}

class ReadinessChecksDto {
  @ApiProperty({ description: 'A leader/primary is known and reachable' }) leader!: boolean;
  @ApiProperty({ description: 'At least `quorumSize` replicas are reachable and agree on their state' }) quorum!: boolean;
  @ApiProperty({ description: 'The gateway hears the bus (replies and beacons reach it)' }) bus!: boolean;
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'unready'] }) status!: 'ready' | 'unready';
  @ApiProperty({ type: String, nullable: true, description: 'The leader/primary the gateway would forward to now' }) leader!: string | null;
  @ApiProperty({ type: ReadinessChecksDto }) checks!: ReadinessChecksDto;
  @ApiProperty({ type: [String], description: 'Replicas alive by beacon, not isolated, and reachable on the bus' }) reachable!: string[];
  @ApiProperty({ description: "Replicas needed to order a request: a Raft majority, PBFT's 2f+1", example: 2 }) quorumSize!: number;
  @ApiProperty({ type: [String], description: "Reachable replicas whose state digest disagrees with their peers' at the same applied index" })
  diverged!: string[];
}
