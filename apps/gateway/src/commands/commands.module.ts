import { Module } from '@nestjs/common';
import { KvModule } from '../kv/kv.module';
import { CommandsController } from './commands.controller';
import { CommandsService } from './commands.service';
import { CommandsWorker } from './commands.worker';

@Module({ imports: [KvModule], controllers: [CommandsController], providers: [CommandsService, CommandsWorker] })
export class CommandsModule {}
