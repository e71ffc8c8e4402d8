import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CommandDto {
  @ApiProperty({ enum: ['put', 'delete', 'cas'] }) op!: string;
  @ApiProperty() key!: string;
  @ApiPropertyOptional({ description: 'put, cas' }) value?: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'cas: the value required, null = absent' }) expected?: string | null;
}

export class CommandsBodyDto {
  @ApiProperty({ type: [CommandDto], description: '1 to 1000 commands, applied in order' }) commands!: CommandDto[];
}

export class JobAcceptedDto {
  @ApiProperty({ description: 'The job id (the Idempotency-Key when given and usable as a BullMQ id)' }) id!: string;
}

export class JobDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'completed', description: 'waiting, active, delayed (retrying), completed, failed, ...' }) state!: string;
  @ApiProperty() attemptsMade!: number;
  @ApiPropertyOptional({ description: 'One result per command (op, key, and the REST fields), when completed' }) results?: object[];
  @ApiPropertyOptional({ description: 'Why the last attempt failed' }) error?: string;
}
