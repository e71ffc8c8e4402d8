import { Module } from '@nestjs/common';
import { AdminController, AdminLinksController } from './admin.controller';
import { AdminService } from './admin.service';
import { AdminTokenGuard } from './admin-token.guard';
import { ControlPlane } from './control-plane';
import { SupervisorClient } from './supervisor-client';

@Module({
  controllers: [AdminController, AdminLinksController],
  providers: [AdminService, AdminTokenGuard, ControlPlane, SupervisorClient],
  exports: [AdminService, AdminTokenGuard, ControlPlane, SupervisorClient],
})
export class AdminModule {}
